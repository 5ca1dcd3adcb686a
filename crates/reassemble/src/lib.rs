//! periscope-reassemble (under construction).
