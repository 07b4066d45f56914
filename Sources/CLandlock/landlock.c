#define _GNU_SOURCE
#include "modelport_landlock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

int modelport_landlock_writes_only_beneath(const char *directory) {
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 0) return -1;
    uint64_t writes = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                      LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG |
                      LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO | LANDLOCK_ACCESS_FS_MAKE_BLOCK |
                      LANDLOCK_ACCESS_FS_MAKE_SYM;
    // Renaming across directories (ABI 2) and truncating (ABI 3) are writes too.
    if (abi >= 2) writes |= (1ULL << 13);  // LANDLOCK_ACCESS_FS_REFER
    if (abi >= 3) writes |= (1ULL << 14);  // LANDLOCK_ACCESS_FS_TRUNCATE
    struct landlock_ruleset_attr ruleset = {.handled_access_fs = writes};
    int ruleset_fd = (int)syscall(__NR_landlock_create_ruleset, &ruleset, sizeof(ruleset), 0);
    if (ruleset_fd < 0) return -1;
    int dir_fd = open(directory, O_PATH | O_CLOEXEC);
    if (dir_fd < 0) { int e = errno; close(ruleset_fd); errno = e; return -1; }
    struct landlock_path_beneath_attr beneath = {.allowed_access = writes, .parent_fd = dir_fd};
    long added = syscall(__NR_landlock_add_rule, ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, &beneath, 0);
    int e = errno;
    close(dir_fd);
    if (added < 0) { close(ruleset_fd); errno = e; return -1; }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) { e = errno; close(ruleset_fd); errno = e; return -1; }
    long restricted = syscall(__NR_landlock_restrict_self, ruleset_fd, 0);
    e = errno;
    close(ruleset_fd);
    errno = e;
    return restricted < 0 ? -1 : 0;
}
