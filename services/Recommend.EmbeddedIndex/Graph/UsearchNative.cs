using System.Runtime.InteropServices;

namespace Recommend.EmbeddedIndex.Graph;

/// <summary>
/// The parts of USearch's C API (c/usearch.h, 2.26) this index needs. The package's C# wrapper has no filtered
/// search, which exact filters depend on, so the native library it ships is bound directly.
/// </summary>
internal static unsafe partial class UsearchNative
{
    private const string Library = "libusearch_c";

    public const int MetricCosine = 1;
    public const int ScalarF32 = 1;

    [StructLayout(LayoutKind.Sequential)]
    public struct InitOptions
    {
        public int MetricKind;
        public nint CustomMetric;
        public int Quantization;
        public nuint Dimensions;
        public nuint Connectivity;
        public nuint ExpansionAdd;
        public nuint ExpansionSearch;
        [MarshalAs(UnmanagedType.U1)] public bool Multi;
    }

    [LibraryImport(Library, EntryPoint = "usearch_init")]
    public static partial nint Init(InitOptions* options, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_free")]
    public static partial void Free(nint index, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_reserve")]
    public static partial void Reserve(GraphHandle index, nuint capacity, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_add")]
    public static partial void ChangeThreadsAdd(GraphHandle index, nuint threads, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_change_threads_search")]
    public static partial void ChangeThreadsSearch(GraphHandle index, nuint threads, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_change_expansion_search")]
    public static partial void ChangeExpansionSearch(GraphHandle index, nuint expansion, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_add")]
    public static partial void Add(GraphHandle index, ulong key, float* vector, int vectorKind, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_remove")]
    public static partial nuint Remove(GraphHandle index, ulong key, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_size")]
    public static partial nuint Size(GraphHandle index, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_capacity")]
    public static partial nuint Capacity(GraphHandle index, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_memory_usage")]
    public static partial nuint MemoryUsage(GraphHandle index, nint* error);

    /// <summary>The name of the SIMD kernel USearch measures distances with on this CPU ("serial" without one).</summary>
    [LibraryImport(Library, EntryPoint = "usearch_hardware_acceleration")]
    public static partial nint HardwareAcceleration(GraphHandle index, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_search")]
    public static partial nuint Search(
        GraphHandle index, float* query, int queryKind, nuint count, ulong* keys, float* distances, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_filtered_search")]
    public static partial nuint FilteredSearch(
        GraphHandle index, float* query, int queryKind, nuint count,
        delegate* unmanaged[Cdecl]<ulong, nint, int> filter, nint filterState,
        ulong* keys, float* distances, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_save", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void Save(GraphHandle index, string path, nint* error);

    [LibraryImport(Library, EntryPoint = "usearch_load", StringMarshalling = StringMarshalling.Utf8)]
    public static partial void Load(GraphHandle index, string path, nint* error);

    /// <summary>Throws when a call reported an error; USearch's messages are static strings, never freed.</summary>
    public static void ThrowIfFailed(nint error, string operation)
    {
        if (error != 0)
            throw new GraphException($"USearch {operation} failed: {Marshal.PtrToStringUTF8(error)}");
    }
}

/// <summary>
/// Owns a native index. Passing it to a <see cref="LibraryImportAttribute"/> call adds a reference for the call's
/// duration, so a graph released while a search is still inside it is freed only when that search returns.
/// </summary>
internal sealed class GraphHandle() : SafeHandle(0, ownsHandle: true)
{
    public override bool IsInvalid => handle == 0;

    public static unsafe GraphHandle Create(UsearchNative.InitOptions options)
    {
        nint error = 0;
        var native = UsearchNative.Init(&options, &error);
        UsearchNative.ThrowIfFailed(error, "init");
        var graph = new GraphHandle();
        graph.SetHandle(native);
        return graph;
    }

    protected override unsafe bool ReleaseHandle()
    {
        nint error = 0;
        UsearchNative.Free(handle, &error);
        return error == 0;
    }
}

/// <summary>The native graph refused an operation or a file; the graph is derived data, so callers rebuild it.</summary>
public sealed class GraphException(string message) : Exception(message);
