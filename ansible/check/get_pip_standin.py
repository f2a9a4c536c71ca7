"""Stand-in for the pip bootstrap script ansible-test downloads from ci-files.testing.ansible.com
(a host outside the package registries, unreachable where this runs). ansible-test runs it in
an empty venv as `python get_pip_X_Y.py [pip options] pip==X.Y [--no-setuptools] [--no-wheel]`;
this installs pip from the Python's own ensurepip, then the requested packages from PyPI.
ansible/check/run copies it to where ansible-test looks for the downloaded script."""

import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet"] + args)
