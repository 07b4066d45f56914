// Not API: the parts of the HDF5 C library that Swift cannot import directly.
//
// HDF5 spells its property-list defaults, access flags and native types as
// macros that expand to casts or to global ids initialised on first use
// (H5OPEN ...). Swift imports none of those, so each gets a static inline
// function here. Only ModelPortHDF5 includes this module.
#ifndef MODELPORT_CHDF5_SHIM_H
#define MODELPORT_CHDF5_SHIM_H

#include <hdf5.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>

static inline hid_t mp_H5P_DEFAULT(void) { return H5P_DEFAULT; }
/// Stops HDF5 from loading filter plugins (shared libraries named by
/// HDF5_PLUGIN_PATH) for filters a file asks for: a file must not choose
/// code to run.
static inline herr_t mp_disable_plugins(void) { return H5PLset_loading_state(0); }
static inline hid_t mp_H5S_ALL(void) { return H5S_ALL; }
static inline hid_t mp_H5E_DEFAULT(void) { return H5E_DEFAULT; }
static inline hid_t mp_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t mp_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t mp_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }

static inline unsigned mp_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned mp_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned mp_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }
static inline unsigned mp_H5F_ACC_EXCL(void) { return H5F_ACC_EXCL; }

static inline hid_t mp_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t mp_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t mp_H5T_NATIVE_INT8(void) { return H5T_NATIVE_INT8; }
static inline hid_t mp_H5T_NATIVE_INT16(void) { return H5T_NATIVE_INT16; }
static inline hid_t mp_H5T_NATIVE_INT32(void) { return H5T_NATIVE_INT32; }
static inline hid_t mp_H5T_NATIVE_INT64(void) { return H5T_NATIVE_INT64; }
static inline hid_t mp_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t mp_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t mp_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t mp_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t mp_H5T_C_S1(void) { return H5T_C_S1; }
static inline size_t mp_H5T_VARIABLE(void) { return H5T_VARIABLE; }

/// Silences HDF5's automatic printing of its error stack to stderr; errors
/// are read with mp_take_error_message and carried in thrown Swift errors.
static inline void mp_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static inline herr_t mp_error_walk(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    char *buf = (char *)data;
    size_t len = strlen(buf);
    const size_t cap = 1024;
    if (err->desc && len + 4 < cap) {
        snprintf(buf + len, cap - len, "%s%s", len ? "; " : "", err->desc);
    }
    return 0;
}

/// Writes the current thread's HDF5 error stack (innermost last) into buf,
/// which must hold at least 1024 bytes, and clears the stack.
static inline void mp_take_error_message(char *buf) {
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, mp_error_walk, buf);
    H5Eclear2(H5E_DEFAULT);
}

/* --- Added for ModelPortHDF5: link access that never leaves the file. --- */

static inline hid_t mp_H5P_LINK_ACCESS(void) { return H5P_LINK_ACCESS; }

static inline herr_t mp_refuse_external_link(const char *parent_file_name, const char *parent_group_name,
                                             const char *child_file_name, const char *child_object_name,
                                             unsigned *acc_flags, hid_t fapl_id, void *op_data) {
    (void)parent_file_name; (void)parent_group_name; (void)child_file_name;
    (void)child_object_name; (void)acc_flags; (void)fapl_id; (void)op_data;
    return -1;
}

/// A new link-access property list on which traversing an external link (to
/// another file, possibly a FIFO or device) fails instead of opening it.
/// Returns a negative id on failure. The caller owns the list.
static inline hid_t mp_make_no_external_links_lapl(void) {
    hid_t lapl = H5Pcreate(H5P_LINK_ACCESS);
    if (lapl < 0) return lapl;
    if (H5Pset_elink_cb(lapl, mp_refuse_external_link, NULL) < 0) {
        H5Pclose(lapl);
        return -1;
    }
    return lapl;
}

/// Silences automatic error printing for the calling thread, once per thread.
/// Debian's libhdf5 is built thread-safe (H5_HAVE_THREADSAFE), which gives
/// every thread its own error stack and its own automatic-printing setting,
/// so mp_silence_errors() on one thread does not silence the others.
static inline void mp_silence_errors_on_this_thread(void) {
    static _Thread_local int silenced = 0;
    if (!silenced) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        silenced = 1;
    }
}

static inline hid_t mp_H5E_FILEOPEN(void) { return H5E_FILEOPEN; }
static inline hid_t mp_H5E_CANTLOCKFILE(void) { return H5E_CANTLOCKFILE; }

static inline herr_t mp_minor_walk(unsigned n, const H5E_error2_t *err, void *data) {
    (void)n;
    hid_t *wanted = (hid_t *)data;
    if (err->min_num == wanted[0]) wanted[1] = 1;
    return 0;
}

/// Whether the calling thread's current error stack holds an error with the
/// given minor number (e.g. mp_H5E_FILEOPEN()). Leaves the stack untouched.
static inline int mp_error_stack_has_minor(hid_t minor) {
    hid_t state[2] = { minor, 0 };
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, mp_minor_walk, state);
    return state[1] != 0;
}

/// Marks an open file's descriptor close-on-exec. HDF5's POSIX driver opens
/// files without O_CLOEXEC, so a child process spawned while the file is open
/// (by any thread) would inherit the descriptor and, with it, HDF5's flock on
/// the file: a later open of the same file here would then fail with "unable
/// to lock the file" although nothing holds it any more. Returns 0, or -1 if
/// the descriptor cannot be reached (a driver without one) or changed.
static inline int mp_set_close_on_exec(hid_t file) {
    void *handle = NULL;
    if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == NULL) return -1;
    int fd = *(int *)handle;
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0 ? -1 : 0;
}

#endif
