module github.com/sealedcookie/sealed/cmd/sealed

go 1.26.0

require github.com/sealedcookie/sealed v1.0.0

require (
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
)
