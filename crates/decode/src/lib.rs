//! periscope-decode (under construction).
