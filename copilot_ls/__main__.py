from copilot_ls.cli import main

raise SystemExit(main())
