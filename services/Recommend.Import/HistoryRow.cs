using Recommend.Core.History;

namespace Recommend.Import;

/// <summary>
/// One line of a history file: an event to send, a line skipped on purpose (a cancellation, a return, a row without a
/// customer — counted by <see cref="Skipped"/>), or a line rejected as malformed (<see cref="Rejected"/> says why).
/// </summary>
public sealed record HistoryRow(long Line, UserEvent? Event, string? Skipped, string? Rejected)
{
    /// <summary>The server refuses a whole batch for one bad event; the same rules here reject just that row.</summary>
    private const int MaxIdLength = 128;
    private static readonly TimeSpan FutureTolerance = TimeSpan.FromDays(1);

    public static HistoryRow Kept(long line, UserEvent e)
    {
        foreach (var (name, value) in new[] { ("event_id", e.EventId), ("user_id", e.UserId), ("product_id", e.ProductId), ("order_id", e.OrderId ?? "x") })
        {
            if (value.Length > MaxIdLength) return Reject(line, $"{name} longer than {MaxIdLength} characters");
            if (value.AsSpan().ContainsAnyInRange('\u0000', '\u001f') || value.Contains('\u007f')) return Reject(line, $"{name} contains control characters");
        }
        if (e.OccurredAt > DateTimeOffset.UtcNow + FutureTolerance) return Reject(line, $"occurred_at in the future ({e.OccurredAt:O})");
        return new(line, e, null, null);
    }

    public static HistoryRow Skip(long line, string reason) => new(line, null, reason, null);

    public static HistoryRow Reject(long line, string problem) => new(line, null, null, problem);
}
