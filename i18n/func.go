package i18n

// Func translates a catalog key with optional format arguments.
type Func func(key string, args ...any) string
