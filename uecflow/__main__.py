from uecflow.cli import main

raise SystemExit(main())
