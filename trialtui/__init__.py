"""trialtui: explore paired pre/post-treatment biopsy biomarkers from clinical trials."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trialtui")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
