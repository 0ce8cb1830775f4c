using System.Threading.Channels;
using Grpc.Core;
using Recommend.Core.Experiments;
using Recommend.Core.History;
using Proto = Recommend.Contracts.V1;
using static Recommend.Api.Grpc.RequestValidation;

namespace Recommend.Api.Grpc;

/// <summary>recommend.v1.Events: validates each whole batch first, then stores it atomically.</summary>
internal sealed class EventsGrpcService(IHistoryStore history, ExperimentAttribution attribution, TimeProvider clock) : Proto.Events.EventsBase
{
    /// <summary>Clock skew tolerated on client timestamps; beyond it an event "from the future" is a client bug.</summary>
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromDays(1);

    /// <summary>Events in one import batch: large enough to amortise a commit, small enough to bound a transaction.</summary>
    public const int MaxEventsPerImportBatch = 10_000;

    public override async Task<Proto.RecordEventsResponse> RecordEvents(Proto.RecordEventsRequest request, ServerCallContext context)
    {
        var result = await StoreAsync(request, MaxIdsPerRequest, "events", context.CancellationToken);
        return new Proto.RecordEventsResponse { Accepted = result.Accepted, Duplicates = result.Duplicates };
    }

    public override async Task ImportEvents(
        IAsyncStreamReader<Proto.RecordEventsRequest> requestStream, IServerStreamWriter<Proto.ImportEventsAck> responseStream, ServerCallContext context)
    {
        // Reading and validating the next batch overlaps storing this one: the store's round trips, not the host, are
        // what an import waits on. Batches are still stored one at a time, in order, so the acknowledgement of batch n
        // means batches 0..n are committed; a batch that fails validation fails the call after those before it.
        var validated = Channel.CreateBounded<(long Batch, List<UserEvent> Events)>(new BoundedChannelOptions(2) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        var reading = ReadBatchesAsync(requestStream, validated.Writer, stop.Token);
        try
        {
            await foreach (var (batch, events) in validated.Reader.ReadAllAsync(stop.Token))
            {
                var result = await StoreAsync(events, stop.Token);
                await responseStream.WriteAsync(new Proto.ImportEventsAck { Batch = batch, Accepted = result.Accepted, Duplicates = result.Duplicates });
            }
        }
        finally
        {
            await stop.CancelAsync();
            await reading;
        }
    }

    /// <summary>Validates each batch as it arrives; completes the channel with the first error, after the batches before it.</summary>
    private Task ReadBatchesAsync(
        IAsyncStreamReader<Proto.RecordEventsRequest> requestStream, ChannelWriter<(long, List<UserEvent>)> validated, CancellationToken ct) =>
        Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                var batch = 0L;
                await foreach (var request in requestStream.ReadAllAsync(ct))
                {
                    await validated.WriteAsync((batch, Validate(request, MaxEventsPerImportBatch, $"batch[{batch}].events")), ct);
                    batch++;
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                // The storing side stopped (it failed, or the call ended): nothing more to read.
            }
            catch (Exception ex)
            {
                failure = ex;
            }
            validated.TryComplete(failure);
        }, CancellationToken.None);

    private Task<RecordResult> StoreAsync(Proto.RecordEventsRequest request, int maxEvents, string field, CancellationToken ct) =>
        StoreAsync(Validate(request, maxEvents, field), ct);

    private List<UserEvent> Validate(Proto.RecordEventsRequest request, int maxEvents, string field)
    {
        if (request.Events.Count > maxEvents) throw Invalid(field, $"at most {maxEvents} events per batch, got {request.Events.Count}");
        var now = clock.GetUtcNow();
        return request.Events.Select((e, i) => ToEvent(e, $"{field}[{i}]", now)).ToList();
    }

    private async Task<RecordResult> StoreAsync(List<UserEvent> events, CancellationToken ct)
    {
        var result = await history.RecordEventsAsync(events, ct);
        await attribution.ObserveAsync(events, ct);
        return result;
    }

    private static UserEvent ToEvent(Proto.Event e, string field, DateTimeOffset now)
    {
        var type = e.Type switch
        {
            Proto.EventType.View => EventType.View,
            Proto.EventType.Click => EventType.Click,
            Proto.EventType.AddToCart => EventType.AddToCart,
            Proto.EventType.Purchase => EventType.Purchase,
            _ => throw Invalid($"{field}.type", "must be view, click, add_to_cart or purchase"),
        };
        if (e.Quantity < 0) throw Invalid($"{field}.quantity", "must not be negative");
        var occurredAt = now;
        if (e.OccurredAt is { } timestamp)
        {
            // Outside DateTimeOffset's range, or nanos outside [0, 1e9), ToDateTimeOffset would throw (INTERNAL).
            occurredAt = timestamp.Seconds is < -62135596800 or > 253402300799 || timestamp.Nanos is < 0 or > 999_999_999
                ? throw Invalid($"{field}.occurred_at", "is out of range")
                : timestamp.ToDateTimeOffset();
            if (occurredAt > now + FutureTolerance) throw Invalid($"{field}.occurred_at", $"is in the future ({occurredAt:O})");
        }
        return new UserEvent(
            Id(e.EventId, $"{field}.event_id"),
            type,
            Id(e.UserId, $"{field}.user_id"),
            Id(e.ProductId, $"{field}.product_id"),
            e.Quantity == 0 ? 1 : e.Quantity,
            Price(e.Price, $"{field}.price"),
            occurredAt,
            string.IsNullOrEmpty(e.RecommendationId) ? null : Id(e.RecommendationId, $"{field}.recommendation_id"),
            string.IsNullOrEmpty(e.OrderId) ? null : Id(e.OrderId, $"{field}.order_id"));
    }
}
