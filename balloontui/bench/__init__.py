"""balloontui's own benchmark: ``python -m balloontui.bench``. Not part of the pass/fail tests."""
