"""Pages for people: the maps, the WeChat embed page and its JS-SDK client, assets, /docs."""
