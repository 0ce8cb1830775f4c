using System.Threading.RateLimiting;

namespace Recommend.Api.Security;

/// <summary>A token bucket per key (by name), refilled every 100 ms, so one client's burst never spends another's budget.</summary>
public sealed class ClientRateLimiter(AuthOptions options) : IDisposable
{
    private static readonly TimeSpan Refill = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedRateLimiter<ApiClient> _limiter = PartitionedRateLimiter.Create<ApiClient, string>(client =>
        RateLimitPartition.GetTokenBucketLimiter(client.Name, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = Math.Max(options.RateLimit.Burst, client.RequestsPerSecond / 10 + 1),
            TokensPerPeriod = Math.Max(1, client.RequestsPerSecond / 10),
            ReplenishmentPeriod = client.RequestsPerSecond >= 10 ? Refill : TimeSpan.FromSeconds(1.0 / client.RequestsPerSecond),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    /// <returns>null when admitted, else how long the client should wait before retrying.</returns>
    public TimeSpan? TryAdmit(ApiClient client)
    {
        using var lease = _limiter.AttemptAcquire(client);
        if (lease.IsAcquired) return null;
        return lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter) && retryAfter > TimeSpan.Zero ? retryAfter : Refill;
    }

    public void Dispose() => _limiter.Dispose();
}
