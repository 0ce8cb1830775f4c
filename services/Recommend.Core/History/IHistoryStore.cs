namespace Recommend.Core.History;

/// <summary>
/// Port: purchase history and the signals derived from it. Implemented by the SQLite and Postgres stores.
/// Popularity is maintained in the same transaction as the events; co-purchase counts either there too (SQLite, for
/// batches up to <c>SqliteStore.CountPairsInlineUpTo</c> events) or by a durable background step that applies each
/// basket item exactly once, within about a second when the store is not in a bulk import.
/// </summary>
public interface IHistoryStore
{
    /// <summary>
    /// Stores a batch durably and atomically; an event whose id is already stored is skipped.
    /// Every new event adds <see cref="Popularity.EventWeight"/> to its product's popularity key; a purchase also
    /// joins its basket (<see cref="UserEvent.BasketKey"/>), counting each new product pair of the basket once.
    /// </summary>
    Task<RecordResult> RecordEventsAsync(IReadOnlyList<UserEvent> events, CancellationToken ct);

    /// <summary>
    /// Completes once every purchase committed before the call is in the co-purchase counts: for a job that reads them
    /// right after a bulk load (the sample seeding, an evaluation).
    /// </summary>
    Task SettleCoPurchasesAsync(CancellationToken ct);

    /// <summary>
    /// Events read per interaction asked for: <see cref="GetRecentInteractionsAsync"/> looks at the user's latest
    /// <c>limit</c> × this many events, so a customer with hundreds of thousands of events costs a call what one with a
    /// few thousand does.
    /// </summary>
    public const int EventsReadPerInteraction = 10;

    /// <summary>
    /// The user's most recent interactions, newest first, one row per (product, type) at its latest time, counted over
    /// the user's latest <paramref name="limit"/> × <see cref="EventsReadPerInteraction"/> events (newest first by time,
    /// then type, then product).
    /// </summary>
    Task<IReadOnlyList<Interaction>> GetRecentInteractionsAsync(string userId, int limit, CancellationToken ct);

    /// <summary>Every product the user has purchased.</summary>
    Task<IReadOnlySet<string>> GetPurchasedProductIdsAsync(string userId, CancellationToken ct);

    /// <summary>For each source product, its top co-purchased neighbours by count.</summary>
    Task<IReadOnlyList<CoPurchase>> GetCoPurchasesAsync(IReadOnlyCollection<string> productIds, int limitPerProduct, CancellationToken ct);

    /// <summary>
    /// Every (user, product) pair with purchases, grouped by user (ordered by user id): what training reads, streamed
    /// so a large history is never held as rows.
    /// </summary>
    IAsyncEnumerable<PurchaseSummary> ReadPurchaseSummariesAsync(CancellationToken ct);

    /// <summary>Purchase events stored: training compares it with the live model's to decide when to retrain.</summary>
    Task<long> CountPurchasesAsync(CancellationToken ct);

    /// <summary>Most popular products by time-decayed purchase weight, optionally in one category.</summary>
    Task<IReadOnlyList<TrendingProduct>> GetTrendingAsync(string? category, int limit, CancellationToken ct);
}

public readonly record struct RecordResult(int Accepted, int Duplicates);

public sealed record Interaction(string ProductId, EventType Type, DateTimeOffset OccurredAt, int Count);

/// <param name="Count">Baskets containing both products.</param>
/// <param name="SourceBaskets">Baskets containing the source product.</param>
/// <param name="NeighbourBaskets">Baskets containing the neighbour.</param>
public sealed record CoPurchase(string SourceProductId, string ProductId, long Count, long SourceBaskets, long NeighbourBaskets);

/// <param name="LogScore">
/// ln(Σ wᵢ·e^(tᵢ/τ)) over the product's purchases: ranks identically to decayed popularity at any reference time
/// without ever exponentiating a large number (see <see cref="Popularity"/>).
/// </param>
public sealed record TrendingProduct(string ProductId, string Category, double LogScore);
