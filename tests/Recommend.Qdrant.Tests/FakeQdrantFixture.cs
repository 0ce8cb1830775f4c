using Recommend.Testing.Qdrant;

namespace Recommend.Qdrant.Tests;

/// <summary>One in-process Qdrant per test class; tests stay apart by using their own aliases.</summary>
public sealed class FakeQdrantFixture : IAsyncLifetime
{
    public const string ApiKey = "test-api-key";

    public FakeQdrantServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await FakeQdrantServer.StartAsync(ApiKey);

    public async Task DisposeAsync() => await Server.DisposeAsync();

    public static string UniqueAlias(string purpose) => $"{purpose}_{Guid.NewGuid():N}";
}
