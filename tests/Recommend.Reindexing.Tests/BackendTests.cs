using Recommend.Core.Vectors;
using Recommend.EmbeddedIndex;
using Recommend.Qdrant;
using Recommend.Testing.Qdrant;

namespace Recommend.Reindexing.Tests;

public sealed class EmbeddedIndexReindexingTests : ReindexingTests
{
    private protected override (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory)
    {
        var index = EmbeddedVectorIndex.Open(Path.Combine(directory, "index"));
        return (index, () => { index.Dispose(); return ValueTask.CompletedTask; });
    }
}

/// <summary>One protocol-level Qdrant server per class; each test uses an alias of its own.</summary>
public sealed class QdrantServerFixture : IAsyncLifetime
{
    public FakeQdrantServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await FakeQdrantServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class QdrantReindexingTests(QdrantServerFixture qdrant) : ReindexingTests, IClassFixture<QdrantServerFixture>
{
    private protected override (IVectorIndex Index, Func<ValueTask> Dispose) OpenIndex(string directory)
    {
        var index = new QdrantVectorIndex(new QdrantIndexOptions { Url = qdrant.Server.Url, Alias = $"reindex_{Guid.NewGuid():N}" });
        return (index, () => { index.Dispose(); return ValueTask.CompletedTask; });
    }
}
