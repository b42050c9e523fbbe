#!/bin/sh
# Per-user install of the CNN Studio bundle from this folder (no root needed):
#   ./install.sh            installs into ~/.local (app in ~/.local/opt/cnnstudio, command ~/.local/bin/cnnstudio)
#   ./install.sh --remove   removes it again
# It adds the menu entry, the icon and the .cnnproj file type, so projects open with a double-click.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PREFIX=${PREFIX:-"$HOME/.local"}
APP="$PREFIX/opt/cnnstudio"
SHARE=${XDG_DATA_HOME:-"$PREFIX/share"}

refresh() {
    command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$SHARE/mime" || true
    command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$SHARE/applications" || true
    command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$SHARE/icons/hicolor" || true
}

if [ "${1:-}" = "--remove" ]; then
    rm -rf "$APP" "$PREFIX/bin/cnnstudio" "$SHARE/applications/cnnstudio.desktop" \
        "$SHARE/mime/packages/cnnstudio.xml" "$SHARE/icons/hicolor/256x256/apps/cnnstudio.png"
    refresh
    echo "CNN Studio removed."
    exit 0
fi

mkdir -p "$PREFIX/opt" "$PREFIX/bin" "$SHARE/applications" "$SHARE/mime/packages" "$SHARE/icons/hicolor/256x256/apps"
rm -rf "$APP"
cp -a "$HERE/app" "$APP"
ln -sf "$APP/cnnstudio" "$PREFIX/bin/cnnstudio"
# the menu entry runs the installed executable by its full path (~/.local/bin may not be on PATH)
sed "s|^Exec=cnnstudio |Exec=\"$APP/cnnstudio\" |" "$HERE/share/applications/cnnstudio.desktop" \
    > "$SHARE/applications/cnnstudio.desktop"
cp "$HERE/share/mime/packages/cnnstudio.xml" "$SHARE/mime/packages/cnnstudio.xml"
cp "$HERE/share/icons/hicolor/256x256/apps/cnnstudio.png" "$SHARE/icons/hicolor/256x256/apps/cnnstudio.png"
refresh
echo "CNN Studio installed in $APP; start it from the menu or with $PREFIX/bin/cnnstudio."
