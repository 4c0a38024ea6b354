from balloontui.cli import main

raise SystemExit(main())
