# One image for every Cookout process; compose.yaml picks the command (web, projections, worker, beat).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY domain/ domain/
COPY platform/ platform/
COPY projections/ projections/
COPY workers/ workers/
COPY templates/ templates/
RUN pip install -c requirements.lock . \
    && rm -rf /src

RUN useradd --create-home --uid 10001 cookout \
    && mkdir -p /var/lib/cookout \
    && chown cookout:cookout /var/lib/cookout
USER cookout
WORKDIR /home/cookout
ENV COOKOUT_DATA_DIR=/var/lib/cookout

EXPOSE 8000
CMD ["cookout", "web", "--host", "0.0.0.0", "--port", "8000"]
