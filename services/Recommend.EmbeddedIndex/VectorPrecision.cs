namespace Recommend.EmbeddedIndex;

/// <summary>
/// How vectors are stored: in a version's HNSW graph (F32, F16 or Int8), and in the exact rows that search scores are
/// recomputed from (F32 or F16).
/// </summary>
public enum VectorPrecision
{
    F32,
    F16,
    Int8,
}
