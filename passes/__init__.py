"""graphc.passes -- pass infrastructure and passes (see DESIGN.md section 4)."""
