"""Allow ``python -m trialtui``."""

import sys

try:
    from trialtui.cli import main
except KeyboardInterrupt:  # Ctrl-C while Python is still loading trialtui
    sys.stderr.write("trialtui: interrupted; nothing was written\n")
    raise SystemExit(130) from None

if __name__ == "__main__":
    raise SystemExit(main())
