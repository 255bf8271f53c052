#!/bin/sh
# pyrealsense2 needs libusb-1.0; install it where we are root, otherwise say what to install.
if ldconfig -p 2>/dev/null | grep -q 'libusb-1.0.so.0'; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing libusb-1.0-0 (needed by pyrealsense2)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libusb-1.0-0 >/dev/null) \
        || echo "warning: could not install libusb-1.0-0; RealSense capture will be unavailable"
else
    echo "note: pyrealsense2 needs libusb-1.0-0; install it with: sudo apt-get install libusb-1.0-0"
fi
exit 0
