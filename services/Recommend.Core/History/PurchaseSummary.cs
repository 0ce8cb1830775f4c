namespace Recommend.Core.History;

/// <summary>How often one user bought one product and when last: a cell of the user × item matrix models learn from.</summary>
public sealed record PurchaseSummary(string UserId, string ProductId, int Purchases, DateTimeOffset LastPurchasedAt);
