using Recommend.Testing.Qwen;
using Xunit;

namespace Recommend.Embeddings.Qwen.Tests;

[CollectionDefinition(Name)]
public sealed class TinyQwenModelsCollection : ICollectionFixture<TinyQwenModels>
{
    public const string Name = "tiny qwen models";
}
