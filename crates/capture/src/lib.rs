//! periscope-capture (under construction).
