using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Recommend.Core.Vectors;
using Recommend.Indexing;
using Recommend.Indexing.Jobs;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>
/// recommend.v1.Catalog re-indexing RPCs: message translation and field caps only; the rules (source policy, dimensions,
/// tolerance) are the engine's, enforced for every caller, and jobs run in <see cref="ReindexService"/>.
/// </summary>
internal sealed partial class CatalogGrpcService
{
    private const int MaxModelIdLength = 256;
    private const int MaxSourceLength = 4_096;

    public override async Task<Proto.StartReindexResponse> StartReindex(Proto.StartReindexRequest request, ServerCallContext context)
    {
        var mode = request.Mode switch
        {
            Proto.ReindexMode.Full => ReindexMode.Full,
            Proto.ReindexMode.Incremental => ReindexMode.Incremental,
            _ => throw Invalid("mode", "must be REINDEX_MODE_FULL or REINDEX_MODE_INCREMENTAL"),
        };
        var source = Text(request.Source, "source", MaxSourceLength);
        var modelId = Text(request.ModelId, "model_id", MaxModelIdLength);

        var reindexRequest = new ReindexRequest(mode, source, request.Dimension, modelId, request.MaxBadRows, request.AllowMassDeletion);
        if (request.DryRun)
        {
            var preview = await reindex.PreviewAsync(reindexRequest, context.CancellationToken);
            var proto = new Proto.ReindexPreview
            {
                SourceProducts = preview.SourceProducts, CatalogProducts = preview.CatalogProducts,
                WouldAdd = preview.WouldAdd, WouldRemove = preview.WouldRemove,
            };
            proto.RemovedSample.AddRange(preview.RemovedSample);
            return new Proto.StartReindexResponse { Preview = proto };
        }
        var job = await reindex.StartAsync(reindexRequest, context.CancellationToken);
        return new Proto.StartReindexResponse { JobId = job.Id };
    }

    public override async Task WatchReindex(Proto.WatchReindexRequest request, IServerStreamWriter<Proto.ReindexProgress> responseStream, ServerCallContext context)
    {
        await foreach (var progress in reindex.WatchAsync(Id(request.JobId, "job_id"), context.CancellationToken))
            await responseStream.WriteAsync(ToProto(progress), context.CancellationToken);
    }

    public override async Task<Proto.ReindexProgress> CancelReindex(Proto.CancelReindexRequest request, ServerCallContext context) =>
        ToProto(await reindex.CancelAsync(Id(request.JobId, "job_id"), context.CancellationToken));

    public override async Task<Proto.IndexStatus> GetIndexStatus(Proto.GetIndexStatusRequest request, ServerCallContext context) =>
        ToProto(await reindex.GetIndexStatusAsync(context.CancellationToken));

    public override async Task<Proto.IndexStatus> RollbackIndex(Proto.RollbackIndexRequest request, ServerCallContext context)
    {
        return ToProto(await reindex.RollbackAsync(Name(request.Version, "version"), context.CancellationToken));
    }

    private static Proto.ReindexProgress ToProto(ReindexProgress progress)
    {
        var job = progress.Job;
        var proto = new Proto.ReindexProgress
        {
            JobId = job.Id,
            State = (Proto.ReindexState)(int)job.Run.State,
            Mode = (Proto.ReindexMode)(int)job.Mode,
            TargetVersion = job.TargetVersion ?? "",
            Processed = job.Run.Counters.Processed,
            Total = job.Total,
            Embedded = job.Run.Counters.Embedded,
            Cached = job.Run.Counters.Cached,
            Deleted = job.Run.Counters.Deleted,
            BadRows = job.Run.Counters.BadRows,
            RatePerSecond = progress.RatePerSecond,
            EtaSeconds = progress.EtaSeconds,
            Error = job.Run.Error ?? "",
            ModelId = job.Spec.ModelId,
            Dimension = job.Spec.Dimension,
        };
        proto.Errors.AddRange(progress.Errors.Select(e => new Proto.SourceRowError { Line = e.Line, ProductId = e.ProductId, Message = e.Message }));
        return proto;
    }

    private static Proto.IndexStatus ToProto(IndexStatus status)
    {
        var proto = new Proto.IndexStatus { Live = status.Live is null ? null : ToProto(status.Live), ActiveJob = status.ActiveJob is null ? null : ToProto(status.ActiveJob) };
        proto.Previous.AddRange(status.Previous.Select(ToProto));
        return proto;
    }

    private static Proto.IndexVersionInfo ToProto(IndexVersionStatus version) => new()
    {
        Name = version.Version.Name,
        ModelId = version.Version.Spec.ModelId,
        Dimension = version.Version.Spec.Dimension,
        PointCount = version.PointCount,
        BuiltAt = Timestamp.FromDateTimeOffset(version.Version.CreatedAt),
        Live = version.Version.IsLive,
        SearchIndex = version.Search.State switch
        {
            SearchIndexState.Exact => Proto.SearchIndexState.Exact,
            SearchIndexState.Building => Proto.SearchIndexState.Building,
            SearchIndexState.Ready => Proto.SearchIndexState.Ready,
            SearchIndexState.OnDisk => Proto.SearchIndexState.OnDisk,
            _ => Proto.SearchIndexState.Unspecified,
        },
        IndexedCount = version.Search.IndexedVectors,
    };
}
