using Qdrant.Client;
using Recommend.ContractTests;
using Recommend.Core.Vectors;

namespace Recommend.Qdrant.Tests;

/// <summary>
/// The shared contract against a Qdrant endpoint. Every index a test opens gets its own alias; afterwards the
/// test's collections are dropped straight through the client, since the port cannot delete a live version.
/// </summary>
public abstract class QdrantContractTests : VectorIndexContract, IAsyncLifetime
{
    private readonly Dictionary<IVectorIndex, QdrantIndexOptions> _opened = new(ReferenceEqualityComparer.Instance);

    protected abstract Uri Url { get; }
    protected abstract string? ApiKey { get; }

    protected override Task<IVectorIndex> CreateIndexAsync() =>
        Task.FromResult(Open(new QdrantIndexOptions { Url = Url, ApiKey = ApiKey, Alias = FakeQdrantFixture.UniqueAlias("contract") }));

    protected override Task<IVectorIndex> ReopenAsync(IVectorIndex index)
    {
        ((IDisposable)index).Dispose();
        return Task.FromResult(Open(_opened[index]));
    }

    private IVectorIndex Open(QdrantIndexOptions options)
    {
        var index = new QdrantVectorIndex(options);
        _opened[index] = options;
        return index;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        using var client = new QdrantClient(Url, ApiKey);
        var prefixes = _opened.Values.Select(o => o.Alias + "_").Distinct().ToList();
        foreach (var collection in await client.ListCollectionsAsync())
        {
            if (prefixes.Any(p => collection.StartsWith(p, StringComparison.Ordinal)))
                await client.DeleteCollectionAsync(collection);
        }
        foreach (var index in _opened.Keys)
            ((IDisposable)index).Dispose();
    }
}

public sealed class FakeQdrantContractTests(FakeQdrantFixture fixture) : QdrantContractTests, IClassFixture<FakeQdrantFixture>
{
    protected override Uri Url => fixture.Server.Url;
    protected override string? ApiKey => FakeQdrantFixture.ApiKey;
}

#if REAL_QDRANT
/// <summary>
/// Compiled only when QDRANT_URL is set at build time (see the project file), and then run against that server
/// (gRPC port, e.g. http://localhost:6334; QDRANT_API_KEY if it has one). Needs Qdrant ≥ 1.16 for collection metadata.
/// </summary>
public sealed class RealQdrantContractTests : QdrantContractTests
{
    protected override Uri Url => new(Environment.GetEnvironmentVariable("QDRANT_URL")
        ?? throw new InvalidOperationException("These tests were built for a real Qdrant: set QDRANT_URL to run them."));

    protected override string? ApiKey => Environment.GetEnvironmentVariable("QDRANT_API_KEY");
}
#endif
