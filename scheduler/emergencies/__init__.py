"""Emergency bulletins (khẩn cấp): issued outside the plan, fanned out to every outlet at once."""
