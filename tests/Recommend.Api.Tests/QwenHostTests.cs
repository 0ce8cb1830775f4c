using Grpc.Core;
using Recommend.Contracts.V1;
using Recommend.Testing.Qwen;

using static Recommend.Api.Tests.RunningHost;

namespace Recommend.Api.Tests;

/// <summary>The host picks the Qwen3 ONNX embedder when its model directory holds a model (a tiny synthetic graph here).</summary>
public sealed class QwenHostTests(TinyQwenModels models) : IClassFixture<TinyQwenModels>
{
    [Fact]
    public async Task A_model_directory_switches_the_host_to_qwen_and_an_index_of_another_model_is_refused()
    {
        var dataDirectory = Directory.CreateTempSubdirectory("recommend-qwen-host-").FullName;
        try
        {
            await using (var qwen = await RunningHost.StartAsync(seedSample: false, dataDirectory,
                $"--Recommend:Embedder:ModelDirectory={models.InterfaceA}", $"--Recommend:Embedder:Dimension={TinyQwenModels.HiddenSize}"))
            {
                var status = await qwen.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest());
                Assert.Equal("qwen3-onnx", status.Embedder);
                Assert.StartsWith("qwen3-embedding", status.ModelId);
                Assert.Equal(TinyQwenModels.HiddenSize, status.Dimension);

                await qwen.UpsertProductsAsync(Product("m1", "RED SPOTTY MUG"), Product("m2", "BLUE STRIPY TEAPOT"), Product("m3", "WHITE HANGING HEART T-LIGHT HOLDER"));
                var found = await qwen.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "mug", Limit = 3 });
                Assert.Equal(3, found.Items.Count);
                Assert.Equal(3, (await qwen.Catalog.GetServiceStatusAsync(new GetServiceStatusRequest())).IndexedProducts);
            }

            // Same data, no model: the fallback embedder cannot read the Qwen-built index.
            await using var fallback = await RunningHost.StartAsync(seedSample: false, dataDirectory, "--Recommend:Embedder:ModelDirectory=/nonexistent");
            var refused = await Assert.ThrowsAsync<RpcException>(() =>
                fallback.Recommendations.SearchProductsAsync(new SearchProductsRequest { Query = "mug" }).ResponseAsync);
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Contains("qwen3-embedding", refused.Status.Detail);
        }
        finally
        {
            Directory.Delete(dataDirectory, recursive: true);
        }
    }
}
