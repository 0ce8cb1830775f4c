using Recommend.Api.Composition;

RecommendHost.Create(args).Run();
