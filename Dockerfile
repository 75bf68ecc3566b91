FROM python:3.11-slim
WORKDIR /app
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
COPY pyproject.toml README.md alembic.ini ./
COPY tracker ./tracker
COPY api ./api
COPY forecast ./forecast
COPY jobs ./jobs
RUN pip install --no-cache-dir .
RUN useradd --create-home fostering
USER fostering
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --retries=5 \
  CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"
CMD ["fostering", "serve", "--host", "0.0.0.0", "--port", "8000"]
