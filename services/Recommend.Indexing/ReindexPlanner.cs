using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing;

/// <param name="Dimension">0 = the configured embedder's dimension.</param>
/// <param name="ModelId">Null or empty = the loaded model.</param>
/// <param name="MaxBadRows">Bad rows tolerated; -1 = unlimited.</param>
public sealed record ReindexRequest(ReindexMode Mode, string Source, int Dimension = 0, string? ModelId = null, int MaxBadRows = 0);

/// <summary>
/// Turns a request into a pending job, applying the rules every caller is held to (gRPC client, CLI worker): the source
/// policy, the dimensions the loaded model can make, the tolerance, and which spec the run builds.
/// </summary>
public sealed class ReindexPlanner(IEmbedderProvider embedders, IVectorIndex index, SourcePolicy sources, TimeProvider time)
{
    /// <exception cref="InvalidRequestException">The source, dimension or tolerance is not acceptable; names the field.</exception>
    /// <exception cref="ReindexPreconditionException">The model is not loaded, or an incremental run has no live version to update.</exception>
    public async Task<ReindexJob> PlanAsync(ReindexRequest request, CancellationToken ct)
    {
        var source = sources.Admit(request.Source);
        if (request.Dimension != 0 && (request.Dimension < embedders.MinDimension || request.Dimension > embedders.MaxDimension))
            throw new InvalidRequestException("dimension", $"must be 0 (the configured one) or between {embedders.MinDimension} and {embedders.MaxDimension}, got {request.Dimension}");
        if (request.MaxBadRows < -1) throw new InvalidRequestException("max_bad_rows", $"must be -1 (unlimited) or more, got {request.MaxBadRows}");
        var now = time.GetUtcNow();
        return new ReindexJob
        {
            Id = $"rj-{now:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            Mode = request.Mode,
            Source = source.ToString(),
            Spec = await SpecForAsync(request, ct),
            MaxBadRows = request.MaxBadRows,
            CreatedAt = now,
        };
    }

    /// <summary>The model and dimension <paramref name="request"/> builds: a full run's from the request and the loaded model, an incremental run's the live one's.</summary>
    private async Task<IndexSpec> SpecForAsync(ReindexRequest request, CancellationToken ct)
    {
        var loaded = embedders.Default.Info;
        if (!string.IsNullOrEmpty(request.ModelId) && request.ModelId != loaded.ModelId)
            throw new ReindexPreconditionException($"model {request.ModelId} is not loaded (the server runs {loaded.ModelId}); load it first");
        IndexSpec spec;
        if (request.Mode == ReindexMode.Full)
        {
            spec = new IndexSpec(loaded.ModelId, request.Dimension == 0 ? loaded.Dimension : request.Dimension);
        }
        else
        {
            var live = await index.GetLiveVersionAsync(ct) ?? throw new ReindexPreconditionException("no live index version to update; run a full re-index first");
            if (request.Dimension != 0 && request.Dimension != live.Spec.Dimension)
                throw new ReindexPreconditionException($"an incremental run keeps the live dimension {live.Spec.Dimension}; use a full run to change it");
            spec = live.Spec;
        }
        embedders.For(spec); // IndexSpecMismatchException (a failed precondition) when the model cannot make it
        return spec;
    }
}
