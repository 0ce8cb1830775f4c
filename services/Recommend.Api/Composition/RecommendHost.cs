namespace Recommend.Api.Composition;

/// <summary>Builds the host; Program runs it and the end-to-end tests start it on loopback.</summary>
public static class RecommendHost
{
    public static WebApplication Create(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.AddRecommend();
        var app = builder.Build();
        app.MapRecommend();
        return app;
    }
}
