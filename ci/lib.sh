# Shared helpers for the ci/ scripts. Sourced, not run.

# Where virtme-ng lives: a venv under the user's cache, outside the repo.
VNG_VENV=${VNG_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/zfs-rs/vng-venv}

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { printf '[%s] error: %s\n' "$(basename "$0")" "$*" >&2; exit 1; }

# The newest Debian kernel installed under /boot (the one the VM boots).
guest_kernel_version() {
    local k
    k=$(ls /boot/vmlinuz-* 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)
    [ -n "$k" ] && echo "$k"
}

zfs_module_built() {
    find "/lib/modules/$1" -name 'zfs.ko*' 2>/dev/null | grep -q .
}
