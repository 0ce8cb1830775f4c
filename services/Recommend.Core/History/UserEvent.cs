namespace Recommend.Core.History;

public enum EventType
{
    View = 1,
    Click = 2,
    AddToCart = 3,
    Purchase = 4,
}

/// <summary>One behavioural event. <see cref="EventId"/> is the client's idempotency key.</summary>
public sealed record UserEvent(
    string EventId,
    EventType Type,
    string UserId,
    string ProductId,
    int Quantity,
    double Price,
    DateTimeOffset OccurredAt,
    string? RecommendationId,
    string? OrderId)
{
    /// <summary>
    /// The basket a purchase belongs to: its order id, or else the user's purchases of the same UTC day,
    /// so that co-purchase counts also work for storefronts that do not send order ids.
    /// </summary>
    public string BasketKey => OrderId is { Length: > 0 } order
        ? order
        : $"{UserId}@{OccurredAt.UtcDateTime:yyyy-MM-dd}";
}
