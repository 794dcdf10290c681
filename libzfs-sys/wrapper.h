/* The headers libzfs-sys declares. libspl's headers use stat64 and friends: _GNU_SOURCE is set
 * by build.rs on the clang command line. */
#include <libzfs.h>
#include <libzfs_core.h>
#include <sys/fs/zfs.h>
#include <zfs_namecheck.h>
#include <libzutil.h>
#include <zfeature_common.h>
