#!/bin/sh
# A step that fails with an error no pattern knows.
echo "Error: the flux capacitor is out of alignment" >&2
exit 3
