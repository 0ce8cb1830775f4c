using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Recommend.Core.Embeddings;

namespace Recommend.Embeddings.Qwen;

public static class QwenServiceCollectionExtensions
{
    /// <summary>
    /// One Qwen3-Embedding model per process (ONNX Runtime session and tokenizer), served through a Matryoshka
    /// <see cref="IEmbedderProvider"/> so serving and re-indexing follow the live version's dimension.
    /// </summary>
    public static IServiceCollection AddQwenEmbedder(this IServiceCollection services, QwenEmbedderOptions options)
    {
        services.AddSingleton(sp => QwenEmbedder.Create(options, sp.GetRequiredService<ILoggerFactory>().CreateLogger<QwenEmbedder>()));
        services.AddSingleton(sp => IEmbedderProvider.Create(sp.GetRequiredService<QwenEmbedder>(), QwenEmbedderOptions.MinDimension));
        return services;
    }
}
