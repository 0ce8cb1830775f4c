using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Recommend.Core.History;
using Recommend.Core.Learning;

namespace Recommend.Training;

/// <summary>
/// Trains the learned model from the history store, publishes it (one transaction: a crash leaves the previous model
/// live) and swaps serving to it; loads models other processes published (the CronJob, another replica); and says
/// when training is due. Requests never wait for any of it: they read <see cref="LiveItemModel.Current"/>.
/// </summary>
public sealed class ItemModelTrainer(
    IHistoryStore history, IItemModelStore models, LiveItemModel live, TrainingOptions options, TimeProvider time, ILogger<ItemModelTrainer> logger)
{
    /// <summary>The stages a training goes through, for progress output.</summary>
    public enum Stage { Reading, Fitting, Publishing }

    /// <summary>Trains and publishes a new version; null when the history holds fewer than two purchased products.</summary>
    public async Task<ItemModelInfo?> TrainAsync(IProgress<Stage>? progress, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        progress?.Report(Stage.Reading);
        var matrix = await PurchaseMatrix.BuildAsync(history.ReadPurchaseSummariesAsync(ct), options.MaxItemsPerUser, ct);
        if (matrix.Items.Count < 2) return null;
        progress?.Report(Stage.Fitting);
        logger.LogInformation("Training the item-to-item model on {Users} customers, {Items} products, {Purchases} purchases",
            matrix.Users.Count, matrix.Items.Count, matrix.Purchases);
        var fitted = await Task.Run(() => ItemModelFitter.Fit(matrix, options, ct), ct);

        progress?.Report(Stage.Publishing);
        var draft = new ItemModelInfo(0, time.GetUtcNow(), fitted.Method, fitted.Rows.Count, fitted.Rows.Values.Sum(r => (long)r.Length),
            matrix.Purchases, clock.Elapsed);
        var model = new ItemToItemModel(draft, fitted.Rows);
        var info = await models.PublishModelAsync(model, ct);
        live.Offer(model.WithInfo(info));
        logger.LogInformation("Published item-to-item model v{Version} ({Method}): {Products} products, {Neighbours} neighbours, trained in {Seconds:F1} s",
            info.Version, info.Method, info.Products, info.Neighbours, clock.Elapsed.TotalSeconds);
        return info;
    }

    /// <summary>Serves the store's live model when it is newer than the one serving; true when it swapped.</summary>
    public async Task<bool> RefreshAsync(CancellationToken ct)
    {
        var info = await models.GetLiveModelInfoAsync(ct);
        if (info is null || live.Current?.Info.Version >= info.Version) return false;
        var model = await models.LoadLiveModelAsync(ct);
        if (model is null || !live.Offer(model)) return false;
        logger.LogInformation("Serving item-to-item model v{Version} trained {TrainedAt:u}", model.Info.Version, model.Info.TrainedAt);
        return true;
    }

    /// <summary>
    /// Due when there is no model yet but there are purchases (the service's cold start), when
    /// <see cref="TrainingOptions.MinNewPurchases"/> arrived since the live model, or when it is older than
    /// <see cref="TrainingOptions.Interval"/> and anything new arrived.
    /// </summary>
    public async Task<bool> IsDueAsync(CancellationToken ct)
    {
        var info = live.Current?.Info ?? await models.GetLiveModelInfoAsync(ct);
        var purchases = await history.CountPurchasesAsync(ct);
        if (info is null) return purchases > 0;
        var fresh = purchases - info.Purchases;
        return fresh >= options.MinNewPurchases || (fresh > 0 && time.GetUtcNow() - info.TrainedAt >= options.Interval);
    }
}
