namespace Recommend.Core.Vectors;

/// <summary>
/// Port: the index version a full re-index is building right now, if any. Catalog writes go to it as well as to the
/// live version, so a write during a rebuild is not lost when readers switch. Implemented by the re-indexing engine.
/// </summary>
public interface IActiveIndexBuild
{
    Task<IndexBuild?> GetAsync(CancellationToken ct);
}

/// <summary>A version being built and the spec its vectors follow.</summary>
public sealed record IndexBuild(string Version, IndexSpec Spec);
