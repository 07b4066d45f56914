#if canImport(Glibc)
import Glibc
#endif

/// Keeps freed tensor memory in the process for reuse.
///
/// Every batch allocates and frees the same large buffers (feature maps,
/// unfolded im2col matrices, gradients). glibc serves blocks above its mmap
/// threshold (128 KB at first, growing by itself only up to a point) with fresh
/// pages and unmaps them on free, and trims the heap top, so each batch
/// page-faults and zero-fills them again: profiles of training at batch 128
/// spent about a quarter of the time in the kernel doing exactly that. Like the
/// arena allocators of TensorFlow and onnxruntime, ModelPort keeps that memory
/// instead: it raises glibc's mmap threshold to its maximum (32 MB) and the trim
/// threshold to 256 MB, once, when it first predicts or trains. Peak memory is
/// unchanged (the buffers were needed anyway); memory is returned to the system
/// less eagerly between batches.
///
/// Not applied when `MODELPORT_MALLOC_TUNING=0`, or when `GLIBC_TUNABLES`
/// already sets malloc options (the user's choice wins). A no-op off glibc.
enum AllocatorTuning {
    static let applyOnce: Void = {
        #if canImport(Glibc)
        if let setting = getenv("MODELPORT_MALLOC_TUNING"), String(cString: setting) == "0" { return }
        if let tunables = getenv("GLIBC_TUNABLES"), String(cString: tunables).contains("glibc.malloc.") { return }
        // mallopt is declared in <malloc.h>, which the Glibc module does not
        // import; look it up instead. Parameter numbers from <malloc.h>.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let M_TRIM_THRESHOLD: Int32 = -1, M_MMAP_THRESHOLD: Int32 = -3
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "mallopt") else { return }
        let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
        _ = mallopt(M_MMAP_THRESHOLD, 32 << 20)
        _ = mallopt(M_TRIM_THRESHOLD, 256 << 20)
        #endif
    }()
}
