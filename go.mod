module github.com/sealedcookie/sealed

go 1.26.0

require (
	github.com/go-jose/go-jose/v4 v4.1.8
	golang.org/x/crypto v0.58.0
)

require golang.org/x/sys v0.49.0 // indirect
