using Recommend.Core.Catalog;
using Recommend.Core.Embeddings;
using Recommend.Core.Errors;
using Recommend.Core.Vectors;
using Recommend.Indexing.Jobs;
using Recommend.Indexing.Sources;

namespace Recommend.Indexing;

/// <param name="Dimension">0 = the configured embedder's dimension.</param>
/// <param name="ModelId">Null or empty = the loaded model.</param>
/// <param name="MaxBadRows">Bad rows tolerated; -1 = unlimited.</param>
/// <param name="AllowMassDeletion">Run even when the file source would delete more than the allowed share of the catalog.</param>
public sealed record ReindexRequest(
    ReindexMode Mode, string Source, int Dimension = 0, string? ModelId = null, int MaxBadRows = 0, bool AllowMassDeletion = false);

/// <summary>What a run from a file would do to the catalog: the products it lists, and those it would delete.</summary>
/// <param name="RemovedSample">The first few ids (in id order) that would be deleted.</param>
public sealed record ReindexPreview(long SourceProducts, long CatalogProducts, long WouldAdd, long WouldRemove, IReadOnlyList<string> RemovedSample);

/// <summary>
/// Turns a request into a pending job, applying the rules every caller is held to (gRPC client, CLI worker): the source
/// policy, the dimensions the loaded model can make, the tolerance, which spec the run builds, and how much of the
/// catalog a file source may delete.
/// </summary>
public sealed class ReindexPlanner(
    IEmbedderProvider embedders, IVectorIndex index, ICatalogStore catalog, SourcePolicy sources, ReindexOptions options, TimeProvider time)
{
    private const int RemovedSampleSize = 20;

    /// <exception cref="InvalidRequestException">The source, dimension or tolerance is not acceptable; names the field.</exception>
    /// <exception cref="ReindexPreconditionException">The model is not loaded, or an incremental run has no live version to update.</exception>
    /// <exception cref="ReindexPreconditionException">... or a file source would delete more of the catalog than allowed.</exception>
    public async Task<ReindexJob> PlanAsync(ReindexRequest request, CancellationToken ct)
    {
        var source = sources.Admit(request.Source);
        Validate(request);
        var now = time.GetUtcNow();
        var job = new ReindexJob
        {
            Id = $"rj-{now:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            Mode = request.Mode,
            Source = source.ToString(),
            Spec = await SpecForAsync(request, ct),
            MaxBadRows = request.MaxBadRows,
            CreatedAt = now,
        };
        if (source is ProductSource.File && !request.AllowMassDeletion && await PreviewAsync(source, ct) is var preview
            && preview.CatalogProducts > 0 && preview.WouldRemove > options.MaxDeletionShare * preview.CatalogProducts)
        {
            throw new ReindexPreconditionException(
                $"the source lists {preview.SourceProducts} valid products, so the run would delete {preview.WouldRemove} of the catalog's "
                + $"{preview.CatalogProducts} ({(double)preview.WouldRemove / preview.CatalogProducts:P0}), more than Recommend:Reindex:MaxDeletionShare "
                + $"({options.MaxDeletionShare:P0}) allows; check the file (a dry run lists what would go), or allow mass deletion");
        }
        return job;
    }

    /// <summary>What the request's run would add and delete, without running it (a dry run).</summary>
    public async Task<ReindexPreview> PreviewAsync(ReindexRequest request, CancellationToken ct)
    {
        var source = sources.Admit(request.Source);
        Validate(request);
        return await PreviewAsync(source, ct);
    }

    /// <summary>
    /// A store source deletes nothing. A file source deletes every product it does not list: its valid ids are read
    /// once (bad rows list nothing) and the store is scanned for the rest.
    /// </summary>
    private async Task<ReindexPreview> PreviewAsync(ProductSource source, CancellationToken ct)
    {
        if (source is not ProductSource.File)
        {
            var count = await catalog.CountProductsAsync(ct);
            return new ReindexPreview(count, count, 0, 0, []);
        }
        var listed = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in source.ReadAsync(catalog, checkpoint: null, ct))
        {
            if (row.Product is { } product) listed.Add(product.Id);
        }
        long inCatalog = 0, kept = 0;
        var removed = new List<string>();
        long removedCount = 0;
        await foreach (var product in catalog.ScanProductsAsync(ct))
        {
            inCatalog++;
            if (listed.Contains(product.Id)) kept++;
            else if (++removedCount <= RemovedSampleSize) removed.Add(product.Id);
        }
        return new ReindexPreview(listed.Count, inCatalog, listed.Count - kept, removedCount, removed);
    }

    private void Validate(ReindexRequest request)
    {
        if (request.Dimension != 0 && (request.Dimension < embedders.MinDimension || request.Dimension > embedders.MaxDimension))
            throw new InvalidRequestException("dimension", $"must be 0 (the configured one) or between {embedders.MinDimension} and {embedders.MaxDimension}, got {request.Dimension}");
        if (request.MaxBadRows < -1) throw new InvalidRequestException("max_bad_rows", $"must be -1 (unlimited) or more, got {request.MaxBadRows}");
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
