using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Recommend.Core.Learning;

namespace Recommend.Training;

public static class TrainingServiceCollectionExtensions
{
    /// <summary>The live model serving reads and the trainer that replaces it.</summary>
    public static IServiceCollection AddItemModelTraining(this IServiceCollection services, TrainingOptions options)
    {
        if (options.Validate() is { } problem) throw new ArgumentException(problem);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<LiveItemModel>();
        services.AddSingleton<ItemModelTrainer>();
        return services;
    }
}
