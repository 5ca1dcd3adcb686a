//! periscope-http (under construction).
