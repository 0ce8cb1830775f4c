using Recommend.ContractTests;
using Recommend.Core.Vectors;

namespace Recommend.EmbeddedIndex.Tests;

public sealed class EmbeddedVectorIndexContractTests : VectorIndexContract, IDisposable
{
    private readonly TemporaryIndexes _indexes = new();

    protected override Task<IVectorIndex> CreateIndexAsync() => Task.FromResult<IVectorIndex>(_indexes.Create());

    protected override Task<IVectorIndex> ReopenAsync(IVectorIndex index) =>
        Task.FromResult<IVectorIndex>(_indexes.Reopen((EmbeddedVectorIndex)index));

    public void Dispose() => _indexes.Dispose();
}
