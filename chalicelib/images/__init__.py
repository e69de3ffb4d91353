"""Product images: presigned uploads straight to S3, processing into WebP renditions, order, alt text."""
