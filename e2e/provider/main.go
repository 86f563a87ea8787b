// Command terraform-provider-selfheal serves the test provider to terraform
// over the plugin protocol. The end-to-end tests build it into a filesystem
// mirror; it is never published.
package main

import (
	"context"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/self-heal/self-heal/e2e/provider/internal/selfheal"
)

func main() {
	err := providerserver.Serve(context.Background(), selfheal.New, providerserver.ServeOpts{
		Address: selfheal.Address,
	})
	if err != nil {
		log.Fatal(err)
	}
}
