"""Retailer API for product images. The file never passes through the API: a retailer gets a presigned S3
POST, uploads to S3 directly, and the processing Lambda publishes the renditions (README, "Product images").
"""

from __future__ import annotations

from chalicelib.api.lazy import lazy
from chalicelib.api.routing import endpoint
from chalicelib.auth.keys import Role
from chalicelib.auth.service import Principal
from chalicelib.images.schemas import Image, ImageList, ImageOrder, ImageUpdate, ImageUpload, ImageUploadIn

images = lazy("chalicelib.images.service")
TAG = "Retailer"
KEY = Role.RETAILER


@endpoint(
    "POST",
    "/retailer/products/{product_id}/images",
    summary="Start an image upload: returns a presigned S3 POST form valid for 5 minutes",
    tag=TAG,
    auth=KEY,
    body=ImageUploadIn,
    response=ImageUpload,
    status=201,
    errors=(409,),
)
def start_image_upload(principal: Principal, product_id: str, body: ImageUploadIn) -> ImageUpload:
    return images.start_upload(principal, product_id, body)


@endpoint(
    "GET",
    "/retailer/products/{product_id}/images",
    summary="A product's images, with pending uploads and the reason a refused one failed",
    tag=TAG,
    auth=KEY,
    response=ImageList,
)
def list_product_images(principal: Principal, product_id: str) -> ImageList:
    return images.list_images(principal, product_id)


@endpoint(
    "PUT",
    "/retailer/products/{product_id}/image-order",
    summary="Reorder a product's images; the first is the cover",
    tag=TAG,
    auth=KEY,
    body=ImageOrder,
    response=ImageList,
    errors=(409,),
)
def reorder_product_images(principal: Principal, product_id: str, body: ImageOrder) -> ImageList:
    return images.reorder_images(principal, product_id, body)


@endpoint(
    "PATCH",
    "/retailer/products/{product_id}/images/{image_id}",
    summary="Set an image's alt text",
    tag=TAG,
    auth=KEY,
    body=ImageUpdate,
    response=Image,
)
def update_product_image(principal: Principal, product_id: str, image_id: str, body: ImageUpdate) -> Image:
    return images.update_image(principal, product_id, image_id, body)


@endpoint(
    "DELETE",
    "/retailer/products/{product_id}/images/{image_id}",
    summary="Delete an image and its files",
    tag=TAG,
    auth=KEY,
    status=204,
)
def delete_product_image(principal: Principal, product_id: str, image_id: str) -> None:
    images.delete_image(principal, product_id, image_id)
