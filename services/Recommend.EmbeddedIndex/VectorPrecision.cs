namespace Recommend.EmbeddedIndex;

/// <summary>
/// How vectors are stored: in a version's HNSW graph (F32, F16, BF16 or Int8), and in the exact rows that search scores
/// are recomputed from (F32 or F16). Version manifests and saved graphs record it by number, so new values go at the end.
/// </summary>
public enum VectorPrecision
{
    F32,
    F16,
    Int8,
    /// <summary>
    /// bfloat16: F16's memory with a shorter mantissa. A CPU with AVX-512 BF16 (AMD Zen 4, Intel Sapphire Rapids)
    /// multiplies it natively; the graph's log line names the distance kernel in use.
    /// </summary>
    BF16,
}
