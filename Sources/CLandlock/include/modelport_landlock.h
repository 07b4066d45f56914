// Not API: Linux Landlock for ModelPortIsolation (Swift cannot call the
// variadic syscall(2) itself). Only ModelPortIsolation includes this module.
#ifndef MODELPORT_LANDLOCK_H
#define MODELPORT_LANDLOCK_H

/// Restricts this process (and its future children) so that it can create,
/// write, rename or delete files only beneath `directory`; reading stays
/// allowed. Returns 0 on success, -1 with errno set (ENOSYS or EOPNOTSUPP
/// when the kernel has no Landlock).
int modelport_landlock_writes_only_beneath(const char *directory);

#endif
