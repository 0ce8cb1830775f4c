namespace Recommend.Core.Catalog;

/// <summary>
/// Serialises writes per product id, so an upsert and a delete of the same product cannot interleave their store and
/// index steps (which left a product without a vector, or a vector without a product). Ids hash onto a fixed set of
/// stripes; a batch takes its stripes in ascending order, so two batches never wait on each other in a cycle.
/// </summary>
public sealed class ProductLocks
{
    private const int StripeCount = 256;
    private readonly SemaphoreSlim[] _stripes = Enumerable.Range(0, StripeCount).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    public async Task<IDisposable> AcquireAsync(IEnumerable<string> productIds, CancellationToken ct)
    {
        var stripes = productIds.Select(id => (int)((uint)StringComparer.Ordinal.GetHashCode(id) % StripeCount)).Distinct().Order().ToArray();
        var taken = 0;
        try
        {
            for (; taken < stripes.Length; taken++) await _stripes[stripes[taken]].WaitAsync(ct);
            return new Held(this, stripes);
        }
        catch
        {
            Release(stripes, taken);
            throw;
        }
    }

    private void Release(int[] stripes, int count)
    {
        for (var i = count - 1; i >= 0; i--) _stripes[stripes[i]].Release();
    }

    private sealed class Held(ProductLocks owner, int[] stripes) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) owner.Release(stripes, stripes.Length);
        }
    }
}
