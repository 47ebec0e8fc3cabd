"""Running programs fast: lowering to kernel rows (``compile``), batched checks (``check``) and
hole filling with Z3 (``holes``)."""
